"""`loyalty` - the operator and partner CLI, for the local cloud or the stack on AWS.

One module per command group: `stack` (the target stack; upload, load-*, balance, dlq), `close`
(close, approvals), `demo`, `up`; `console` (progress bars and tables with rich); `main` (the
parser). It imports the local cloud (`loyalty_local`) and the data factories
(`loyalty_factories`); neither imports it.
"""
