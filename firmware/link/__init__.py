"""The host link protocol (docs/protocol.md), board side.

frame: CRC-16 and line framing; auth: HMAC-SHA256 for clinician commands;
telemetry: the allocation-free `! T` line; server: commands, replies,
events and telemetry on the App's host UART. What a profile may hold is
checked by profile_schema.py, through session/profiles.py.
"""
