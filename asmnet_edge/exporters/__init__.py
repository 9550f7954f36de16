"""asmnet_edge.exporters"""
