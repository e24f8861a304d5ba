"""The shared kernel: money, currencies, periods, ids, IBAN, identity, tabular I/O and the ports
every context may use. Imports nothing else of `loyalty`."""
