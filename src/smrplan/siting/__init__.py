"""Siting: candidate reactor sites and the screen of every criterion, with reasons."""
