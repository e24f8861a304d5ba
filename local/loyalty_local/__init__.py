"""The embedded local cloud (moto + in-process Lambda runtime), the `loyalty` CLI and the demo."""
