//! authkey (placeholder, being written).
