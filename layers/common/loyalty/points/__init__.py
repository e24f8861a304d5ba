"""Points (issue 11): a ledger of lots earned at closes, from courses and recognition; spent on
rewards from the catalog oldest-expiry-first; expired monthly; valued in EUR in the ledger."""
