// Predict-then-check questions: <div class="quiz"> holds a question, buttons (one with
// data-correct) and an explanation that is revealed once the reader has answered.
(() => {
    for (const quiz of document.querySelectorAll('.quiz')) {
        const explain = quiz.querySelector('.quiz-explain');
        if (explain) explain.hidden = true;
        for (const option of quiz.querySelectorAll('.quiz-option')) {
            option.type = 'button';
            option.addEventListener('click', () => {
                const right = option.hasAttribute('data-correct');
                for (const o of quiz.querySelectorAll('.quiz-option')) {
                    o.disabled = true;
                    if (o.hasAttribute('data-correct')) o.classList.add('quiz-correct');
                }
                if (!right) option.classList.add('quiz-wrong');
                option.setAttribute('aria-pressed', 'true');
                if (explain) {
                    explain.hidden = false;
                    explain.setAttribute('role', 'status');
                    explain.insertAdjacentText('afterbegin', right ? 'Right. ' : 'Not quite. ');
                }
            });
        }
    }
})();
