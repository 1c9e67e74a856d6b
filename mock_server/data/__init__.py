"""Shipped data: the one loader of schema files (and OpenAPI bundling), the result videos, a small
MP4 reader.
"""
