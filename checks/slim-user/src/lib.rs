//! Nothing: the test is the point.
