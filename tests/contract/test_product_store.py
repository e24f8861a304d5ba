"""Contract of the product master port (issue 9, point 15): in memory and on DynamoDB."""

from __future__ import annotations

from typing import Any


def test_products_round_trip_and_a_reload_replaces(store: Any) -> None:
    assert store.product_categories(["SKU-1"]) == {}
    store.put_products({"SKU-1": "hardware", "SKU-2": "services"})
    store.put_products({"SKU-2": "software"})  # a later master file changes a SKU
    assert store.product_categories(["SKU-1", "SKU-2", "SKU-9", "SKU-1"]) == {
        "SKU-1": "hardware",
        "SKU-2": "software",
    }
    assert store.product_categories([]) == {}
