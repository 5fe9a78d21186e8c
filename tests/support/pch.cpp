// Compiled once to build the precompiled header the test executables reuse.
