//! The test helpers themselves: the scripted server counts and checks what it receives.

mod scripted;
