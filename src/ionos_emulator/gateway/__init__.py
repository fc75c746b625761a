"""From HTTP to a handler: routing by path prefix, authentication, validation, rendering of replies."""
