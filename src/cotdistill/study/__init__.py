"""cotdistill.study"""
