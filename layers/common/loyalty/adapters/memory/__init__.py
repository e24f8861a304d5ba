"""In-memory adapters: one for every port, held to the AWS adapters by the contract tests in
`tests/contract/`. Used by the service unit tests, the benchmarks and isolated runs."""
