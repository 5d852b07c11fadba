//! image-builder (placeholder, being written).
