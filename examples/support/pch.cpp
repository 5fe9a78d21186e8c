// Compiled once to build the precompiled header the examples reuse.
