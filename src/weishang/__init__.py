"""Weishang 微商 — the operating system for social-commerce brands and their agent channels."""

__version__ = "0.1.0"
