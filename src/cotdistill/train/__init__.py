"""cotdistill.train"""
