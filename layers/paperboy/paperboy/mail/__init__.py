"""Mail in and out: addresses, outbound MIME and rendering, inbound parsing and commands."""
