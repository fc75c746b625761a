"""(being written)"""
PRODUCTS: list = []
