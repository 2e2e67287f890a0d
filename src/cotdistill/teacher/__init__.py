"""cotdistill.teacher"""
