//! The test helpers themselves: the scripted server counts and checks what it receives, and
//! the fixtures are made by the commands their README shows.

mod fixtures;
mod scripted;
