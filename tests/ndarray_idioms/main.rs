//! ndarray code as it is written, in one test binary (each binary is a link of its own in the
//! test run): gradients in the parameters' layout, matrices changed lane by lane in place, and
//! the windows of vectors with their own methods.

mod array_windows;
mod gathers;
mod gradient_layout;
mod in_place_elements;
mod lanes_in_place;
mod shape_reads;
mod zip_bodies;
mod zip_indexed;
mod zip_of_lanes;
