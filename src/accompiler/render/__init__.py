"""Renderers: a plan or a card (JSON documents) -> text for people. No computation here."""
