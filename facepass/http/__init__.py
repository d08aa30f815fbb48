"""HTTP plumbing shared by the routers: request bodies, headers."""
