//! USB mass-storage device model (placeholder, being written).
