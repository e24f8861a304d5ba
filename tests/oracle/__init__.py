"""An independent reference calculator (oracle) for the partner program; see docs/oracle.md."""
