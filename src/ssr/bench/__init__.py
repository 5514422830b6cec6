"""Benchmarks: protocols -> LR sets -> method runs -> tables and figure grids."""
