"""Commission of sales lines (PRODUCT §5): `model` (lookups, :class:`Accrual`, what a rate rests
on), `rates` (the rate table blocks share and the pure rate resolution), `calculator`
(:class:`Calculator`, one row or a whole block in columns) and `block` (:class:`AccrualBlock`)."""
