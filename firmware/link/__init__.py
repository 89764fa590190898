"""The host link protocol (docs/protocol.md), board side.

frame: CRC-16 and line framing; auth: HMAC-SHA256 for clinician commands;
profile_check: what a clinician may put in a profile; telemetry: the
allocation-free `! T` line; server: commands, replies, events and telemetry
on the App's host UART.
"""
