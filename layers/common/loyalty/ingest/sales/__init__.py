"""The sales file (PRODUCT §3): `contract` (columns, aliases, limits, :class:`SaleRow`),
`values` (the value checks), `validator` (:class:`SalesValidator`, row and block paths) and
`block` (:class:`SaleBlock`, validated rows in columns, and its wire form)."""
