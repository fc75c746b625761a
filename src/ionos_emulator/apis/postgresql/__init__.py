"""DBaaS PostgreSQL: the current API (regional, postgresql.<region>.ionos.com) and the v1 API
(api.ionos.com/databases/postgresql). They keep their clusters apart and share one data plane: a real
PostgreSQL server on which each cluster's initial user and database exist (plane.py)."""

from . import current, v1

PRODUCTS = [current.PRODUCT, v1.PRODUCT]
