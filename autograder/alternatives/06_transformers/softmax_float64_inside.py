# alternative: computes in float64 and converts back; amax instead of max
# cell: softmax_with_temperature
def softmax_with_temperature(scores, temperature):
    if isinstance(temperature, (int, float)) and temperature > 0:
        s = scores.double() / float(temperature)
        e = (s - s.amax(-1, keepdim=True)).exp()
        return (e / e.sum(-1, keepdim=True)).to(scores.dtype)
    raise ValueError(f"bad temperature {temperature}")
