"""Tests of the driver SDK as a product: options, versions, diagnostics, the kit."""
