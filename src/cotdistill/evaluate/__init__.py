"""cotdistill.evaluate"""
