"""The synthetic dancers: motion-capture clips danced by drawn identities, rendered into the dataset format."""
