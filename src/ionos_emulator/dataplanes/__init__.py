"""Data planes: real network services behind the emulated control-plane APIs (e.g. the DNS server that
answers for the zones of the Cloud DNS API)."""
