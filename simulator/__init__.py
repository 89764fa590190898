"""Bench in software: the firmware against a model of the board, table and person.

The plant/emulation modules (clock, vtime, noise, physics, actuator,
imu_model, board_emul, machine, plant) run under CPython and under the
MicroPython unix port alike.
"""
