//! lw-testkit
