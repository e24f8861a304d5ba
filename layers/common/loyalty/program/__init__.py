"""The program: rule versions, FX rates, the partner registry and how configuration is loaded."""
