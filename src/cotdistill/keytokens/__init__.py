"""cotdistill.keytokens"""
