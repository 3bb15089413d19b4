"""logshipping"""
