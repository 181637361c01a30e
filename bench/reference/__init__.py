"""Reference implementations the benchmarks compare optimised code with."""
