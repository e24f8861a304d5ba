"""Test, demo and benchmark data: a partner program (partners, registry CSV, FX rates), sales files
in the formats partners really send, the small program of the tests and the scale data of the
close benchmark. Pure data: no cloud, no CLI (both import this, never the other way round).

- `program`: partners (segments, sponsors, distributors, cohorts, tiers, IBANs), registry, rates;
- `sales`: three months of sales files with returns, foreign currency, bad rows, a correction;
- `small`: the rules, three-partner registry, rates and a sales-file builder of the tests;
- `scale`: a large, mostly dormant program (the close's scale test and benchmark).
"""
