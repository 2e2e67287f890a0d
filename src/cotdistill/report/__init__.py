"""cotdistill.report"""
