"""The generic machinery every API shares: errors, storage rows, lifecycle, rendering."""
