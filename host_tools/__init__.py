"""invertctl: the PC side of the inversion-table controller (docs/protocol.md)."""
