"""kibana"""
