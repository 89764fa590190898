"""Hardware drivers: each takes its bus or pins ready-made (see board_setup)."""
