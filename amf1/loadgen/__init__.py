"""The load generator: a keep-alive asyncio HTTP client, the load loop and the scenarios."""
