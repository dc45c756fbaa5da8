"""The image controllers: scan registries for tags (`repository`, kept in `store`), choose the latest image by
policy (`policy`, with the pure `selection`), and write it back to Git (`automation`, with the pure Setters
strategy in `setters`); `controller` wires them into a manager.
"""
