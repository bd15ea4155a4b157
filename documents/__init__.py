"""Supporting papers of a case (uploaded, checked by content, served through a permission check) and the
letters to the household generated from the territory's templates."""
