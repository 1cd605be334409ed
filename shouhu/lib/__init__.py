"""Code that imports no Django models: ID numbers, pinyin, crypto, dates, category rules."""
